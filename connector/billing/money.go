package billing

import (
	"strconv"
	"strings"
)

// zeroDecimal lists the ISO 4217 currencies without a minor unit, whose
// amounts are stored in whole units.
var zeroDecimal = map[string]bool{
	"BIF": true, "CLP": true, "DJF": true, "GNF": true, "ISK": true, "JPY": true, "KMF": true, "KRW": true,
	"PYG": true, "RWF": true, "UGX": true, "VND": true, "VUV": true, "XAF": true, "XOF": true, "XPF": true,
}

// FormatMoney renders an amount in minor units of currency for lang:
// "1,500.00 RUB" in English, "1 500,00 RUB" in Russian (with no-break
// spaces). Currencies other than the zero-decimal ones have two decimals.
func FormatMoney(amount int64, currency, lang string) string {
	group, point := ",", "."
	if lang == "ru" {
		group, point = "\u00a0", ","
	}
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	whole, cents := amount, int64(-1)
	if !zeroDecimal[currency] {
		whole, cents = amount/100, amount%100
	}
	text := sign + groupDigits(strconv.FormatInt(whole, 10), group)
	if cents >= 0 {
		text += point + pad2(cents)
	}
	return text + "\u00a0" + currency
}

func groupDigits(digits, sep string) string {
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}
