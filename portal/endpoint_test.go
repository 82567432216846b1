package portal_test

import (
	"errors"
	"testing"

	"github.com/wabridge/b24wa/portal"
)

// Only IP literals and localhost appear here, so no test resolves a name
// through DNS or connects anywhere.
func TestValidateEndpoint(t *testing.T) {
	cases := []struct {
		raw      string
		insecure bool
		ok       bool
	}{
		{"https://93.184.216.34/rest/", false, true},
		{"https://[2606:2800:220:1:248:1893:25c8:1946]/rest/", false, true},
		{"http://93.184.216.34/rest/", false, false},
		{"http://93.184.216.34/rest/", true, false},
		{"ftp://93.184.216.34/rest/", true, false},
		{"https://127.0.0.1/rest/", false, false},
		{"https://[::1]/rest/", false, false},
		{"https://localhost/rest/", false, false},
		{"https://10.1.2.3/rest/", false, false},
		{"https://172.16.0.1/rest/", false, false},
		{"https://192.168.1.1/rest/", false, false},
		{"https://169.254.169.254/latest/meta-data/", false, false},
		{"https://169.254.169.254/latest/meta-data/", true, false},
		{"https://100.64.0.1/rest/", false, false},
		{"https://0.0.0.0/rest/", false, false},
		{"https://[::]/rest/", false, false},
		{"https://224.0.0.1/rest/", false, false},
		{"https://[fe80::1]/rest/", false, false},
		{"https://[fd00::1]/rest/", false, false},
		{"https://[::ffff:127.0.0.1]/rest/", false, false},
		{"https://[::ffff:10.0.0.1]/rest/", false, false},
		{"https://[64:ff9b::a9fe:a9fe]/rest/", false, false},
		{"https://user:pw@93.184.216.34/rest/", false, false},
		{"/rest/", false, false},
		{"http://127.0.0.1:8080/rest/", true, true},
		{"http://[::1]:8080/rest/", true, true},
		{"http://localhost:8080/rest/", true, true},
		{"https://127.0.0.1:8443/rest/", true, true},
		{"http://127.0.0.1:8080/rest/", false, false},
		{"http://10.0.0.1/rest/", true, false},
	}
	for _, tc := range cases {
		_, err := portal.ValidateEndpoint(tc.raw, tc.insecure)
		if tc.ok && err != nil {
			t.Errorf("ValidateEndpoint(%q, %v) = %v, want accepted", tc.raw, tc.insecure, err)
		}
		if !tc.ok && !errors.Is(err, portal.ErrInvalidEndpoint) {
			t.Errorf("ValidateEndpoint(%q, %v) = %v, want ErrInvalidEndpoint", tc.raw, tc.insecure, err)
		}
	}
}

// The dial check runs after DNS resolution, so a name that resolved to a
// public address during validation and to a private one later is stopped.
// The control function is called here directly, without connecting.
func TestDialControlRejectsPrivateAddresses(t *testing.T) {
	cases := []struct {
		address  string
		loopback bool
		ok       bool
	}{
		{"93.184.216.34:443", false, true},
		{"127.0.0.1:443", false, false},
		{"127.0.0.1:443", true, true},
		{"[::1]:443", false, false},
		{"169.254.169.254:80", true, false},
		{"10.0.0.1:443", true, false},
		{"[fd12::1]:443", false, false},
	}
	for _, tc := range cases {
		err := portal.DialControl(tc.loopback)("tcp", tc.address, nil)
		if tc.ok && err != nil {
			t.Errorf("dial %s (loopback %v) = %v, want allowed", tc.address, tc.loopback, err)
		}
		if !tc.ok && !errors.Is(err, portal.ErrInvalidEndpoint) {
			t.Errorf("dial %s (loopback %v) = %v, want ErrInvalidEndpoint", tc.address, tc.loopback, err)
		}
	}
}
