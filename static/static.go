// Package static embeds the templates, stylesheets, scripts, images and
// translations of the web pages. Templates are parsed once, at start.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"path"
)

//go:embed templates/*.html css js img i18n/*.json
var files embed.FS

// Assets is the tree served under /static/.
func Assets() fs.FS { return files }

// Versioned returns the URL of an asset with a content hash in its query, so
// browsers and proxies fetch it again after every change of the file.
func Versioned(name string) string {
	data, err := files.ReadFile(name)
	if err != nil {
		return "/static/" + name
	}
	sum := sha256.Sum256(data)
	return "/static/" + name + "?v=" + hex.EncodeToString(sum[:])[:12]
}

// Templates parses every template with the given extra functions. It panics
// on a broken template, so the first test that builds the router fails.
func Templates(funcs template.FuncMap) *template.Template {
	all := template.FuncMap{"asset": versionedCached()}
	for k, v := range funcs {
		all[k] = v
	}
	return template.Must(template.New("").Funcs(all).ParseFS(files, "templates/*.html"))
}

func versionedCached() func(string) string {
	cache := map[string]string{}
	entries, _ := fs.Glob(files, "*/*")
	for _, name := range entries {
		switch path.Dir(name) {
		case "css", "js", "img":
			cache[name] = Versioned(name)
		}
	}
	return func(name string) string {
		if v, ok := cache[name]; ok {
			return v
		}
		return "/static/" + name
	}
}
