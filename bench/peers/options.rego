# The `options` decision of rules/self-service in Rego (OPA v1 syntax).
# Evaluated as data.selfservice.options.result with the facts as input.
# Reasons are a set of codes; each option's list is read off the policy's ordered
# code list (Rego sets have no order). The version in effect is picked from
# input.as_of (2026-12 adds PL to the add_seats countries); ISO dates compare as strings.
package selfservice.options

import rego.v1

self_service_countries := {
	"US", "CA", "AU", "JP", "GB", "IE", "FR", "DE", "AT", "CH", "BE",
	"NL", "LU", "ES", "PT", "IT", "DK", "SE", "NO", "FI", "PL", "CZ",
}

add_seats_countries := {
	"2026-11": {
		"US", "CA", "GB", "IE", "FR", "DE", "AT", "CH", "BE", "NL",
		"LU", "ES", "PT", "IT", "DK", "SE", "NO", "FI", "CZ",
	},
	"2026-12": {
		"US", "CA", "GB", "IE", "FR", "DE", "AT", "CH", "BE", "NL",
		"LU", "ES", "PT", "IT", "DK", "SE", "NO", "FI", "CZ", "PL",
	},
}

version := "2026-12" if input.as_of >= "2026-12-01"

else := "2026-11"

retired_products := {"alias-design", "softimage", "3ds-max-design", "autocad-ws"}

products_without_self_service := {"fusion", "fusion-manage"}

all_currencies := {"USD", "EUR", "GBP", "JPY"}

# product -> term -> currencies with a price row
prices := {
	"maya-lt": {"monthly": all_currencies, "annual": all_currencies, "three_year": all_currencies},
	"autocad-lt": {"monthly": all_currencies, "annual": all_currencies, "three_year": all_currencies},
	"autocad": {"monthly": all_currencies, "annual": all_currencies, "three_year": all_currencies},
	"revit": {"annual": all_currencies, "three_year": all_currencies},
	"3ds-max": {"monthly": all_currencies, "annual": all_currencies},
	"fusion": {"monthly": all_currencies, "annual": all_currencies},
}

messages := {
	"country_unsupported": "Self-service is not available in your country.",
	"maintenance_plan": "Maintenance plans cannot be changed online.",
	"digital_river": "Subscriptions bought through Digital River cannot be changed online.",
	"reseller_purchase": "This subscription was bought from a reseller; please contact your reseller.",
	"retired_product": "This product has been retired.",
	"product_not_supported": "This product cannot be managed online.",
	"not_active": "This subscription is not active.",
	"paypal_not_alignable": "Subscriptions paid with PayPal cannot have their billing dates aligned.",
	"add_seats_region_unsupported": "Seats cannot be added online in your country.",
	"auto_renew_off": "Turn on automatic renewal to add seats.",
	"renewal_due": "The subscription is due for renewal; add seats after it renews.",
	"price_unavailable": "No price is available for this product, term and currency.",
	"no_alternative_term": "No other term is offered for this product.",
}

gate_order := [
	"country_unsupported", "maintenance_plan", "digital_river", "reseller_purchase",
	"retired_product", "product_not_supported", "not_active",
]

option_order := {
	"align_dates": array.concat(gate_order, ["paypal_not_alignable"]),
	"add_seats": array.concat(
		gate_order,
		["add_seats_region_unsupported", "auto_renew_off", "renewal_due", "price_unavailable"],
	),
	"change_term": array.concat(gate_order, ["no_alternative_term"]),
}

sub := input.subscription

reasons contains "country_unsupported" if not input.account.country in self_service_countries

reasons contains "maintenance_plan" if sub.plan == "maintenance"

reasons contains "digital_river" if sub.channel == "digital_river"

reasons contains "reseller_purchase" if sub.channel == "reseller"

reasons contains "retired_product" if sub.product in retired_products

reasons contains "product_not_supported" if sub.product in products_without_self_service

reasons contains "not_active" if sub.status != "active"

reasons contains "paypal_not_alignable" if sub.payment_method == "paypal"

reasons contains "add_seats_region_unsupported" if {
	not input.account.country in add_seats_countries[version]
}

reasons contains "auto_renew_off" if sub.auto_renew == false

reasons contains "renewal_due" if input.as_of >= sub.renewal_date

reasons contains "price_unavailable" if not priced

priced if sub.currency in prices[sub.product][sub.term]

reasons contains "no_alternative_term" if not alternative_term

alternative_term if {
	some term, currencies in prices[sub.product]
	term != sub.term
	sub.currency in currencies
}

remedy(codes) := null if count(codes) == 0

remedy(codes) := "contact_reseller" if "reseller_purchase" in codes

remedy(codes) := "contact_support" if {
	count(codes) > 0
	not "reseller_purchase" in codes
}

option(codes) := {
	"available": count(codes) == 0,
	"reasons": codes,
	"remedy": remedy(codes),
	"messages": [messages[c] | some c in codes],
}

result := {name: option(codes) |
	some name, order in option_order
	codes := [c | some c in order; c in reasons]
}
