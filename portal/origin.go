package portal

import "net/url"

func originOf(endpoint, domain string) string {
	if u, err := url.Parse(endpoint); err == nil && u.Scheme != "" && u.Host != "" {
		return u.Scheme + "://" + u.Host
	}
	if domain == "" {
		return ""
	}
	return "https://" + domain
}
