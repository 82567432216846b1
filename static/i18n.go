package static

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
)

// Languages the pages are translated into; the first is the fallback.
var Languages = []string{"en", "ru"}

// Catalog holds every translated message, by language and key.
type Catalog struct {
	messages map[string]map[string]string
}

// LoadCatalog reads every i18n/<area>.<lang>.json file and merges the areas
// of each language. A key defined twice, or missing from one language, is an
// error, so translations cannot drift apart silently.
func LoadCatalog() (*Catalog, error) {
	c := &Catalog{messages: map[string]map[string]string{}}
	for _, lang := range Languages {
		names, err := fs.Glob(files, "i18n/*."+lang+".json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, name := range names {
			raw, err := files.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("read translations %s: %w", name, err)
			}
			area := map[string]string{}
			if err := json.Unmarshal(raw, &area); err != nil {
				return nil, fmt.Errorf("parse translations %s: %w", name, err)
			}
			for k, v := range area {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("translation key %q is defined twice for %s (again in %s)", k, lang, name)
				}
				m[k] = v
			}
		}
		c.messages[lang] = m
	}
	base := c.messages[Languages[0]]
	for _, lang := range Languages[1:] {
		for key := range base {
			if _, ok := c.messages[lang][key]; !ok {
				return nil, fmt.Errorf("translation key %q missing in %s", key, lang)
			}
		}
		for key := range c.messages[lang] {
			if _, ok := base[key]; !ok {
				return nil, fmt.Errorf("translation key %q missing in %s", key, Languages[0])
			}
		}
	}
	return c, nil
}

// MustCatalog is LoadCatalog that panics, for start-up.
func MustCatalog() *Catalog {
	c, err := LoadCatalog()
	if err != nil {
		panic(err)
	}
	return c
}

// Lang maps a Bitrix24 LANG value (en, ru, ua, de, ...) to a supported
// language: Russian for ru, ua, by and kz portals, English otherwise.
func Lang(raw string) string {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "ru", "ua", "by", "kz":
		return "ru"
	default:
		return "en"
	}
}

// T returns the message for key in lang formatted with args. An unknown key
// returns the key itself, which tests catch.
func (c *Catalog) T(lang, key string, args ...any) string {
	msg, ok := c.messages[Lang(lang)][key]
	if !ok {
		msg, ok = c.messages[Languages[0]][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// Has reports whether key is translated.
func (c *Catalog) Has(key string) bool {
	_, ok := c.messages[Languages[0]][key]
	return ok
}
