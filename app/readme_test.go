package main

import (
	"os"
	"strings"
	"testing"
)

// The README's configuration table is the operators' reference, so every
// variable the app reads must have a row there.
func TestReadmeListsEveryVariable(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	for _, f := range configFields() {
		if !strings.Contains(readme, "| `"+f.env+"` |") {
			t.Errorf("README.md has no configuration row for %s", f.env)
		}
	}
}
