package portal

import (
	"errors"
	"testing"
)

func TestTokenURLOnlyForKnownOAuthHosts(t *testing.T) {
	insecure := &Client{opts: ClientOptions{AllowInsecureHTTP: true}}
	u, err := insecure.tokenURL("http://127.0.0.1:9/oauth-server/rest/")
	if err != nil {
		t.Fatalf("loopback OAuth server with insecure http: %v", err)
	}
	if u.Path != "/oauth-server/oauth/token/" {
		t.Errorf("token path = %q, want /oauth-server/oauth/token/", u.Path)
	}

	// 203.0.113.0/24 is a documentation range: public, so the address check
	// passes and only the host allow-list can refuse it. Nothing is dialled.
	strict := &Client{}
	if _, err := strict.tokenURL("https://203.0.113.9/rest/"); !errors.Is(err, ErrInvalidEndpoint) {
		t.Errorf("unknown OAuth host: got %v, want ErrInvalidEndpoint", err)
	}
	if _, err := insecure.tokenURL("https://203.0.113.9/rest/"); !errors.Is(err, ErrInvalidEndpoint) {
		t.Errorf("unknown OAuth host with insecure http: got %v, want ErrInvalidEndpoint", err)
	}
}
