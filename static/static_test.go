package static

import (
	"html/template"
	"testing"
)

func TestCatalogLanguagesAgree(t *testing.T) {
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T("ru", "app.name"); got == "app.name" || got == c.T("en", "app.name") {
		t.Errorf("ru app.name = %q, want a Russian translation", got)
	}
	if got := c.T("de", "app.name"); got != c.T("en", "app.name") {
		t.Errorf("unsupported language should fall back to English, got %q", got)
	}
}

func TestTemplatesParse(t *testing.T) {
	tpl := Templates(template.FuncMap{"t": func(string, string, ...any) string { return "" }})
	if tpl.Lookup("head") == nil {
		t.Error("template head is not defined")
	}
}

func TestLangMapping(t *testing.T) {
	cases := map[string]string{"ru": "ru", "ua": "ru", "RU": "ru", "en": "en", "de": "en", "": "en"}
	for in, want := range cases {
		if got := Lang(in); got != want {
			t.Errorf("Lang(%q) = %q, want %q", in, got, want)
		}
	}
}
