// Command composecheck validates docker-compose.yml without a Docker engine:
// the file must parse as YAML and define the app and mysql services, with the
// app waiting for a healthy database.
package main

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

type compose struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Build       any            `yaml:"build"`
		DependsOn   map[string]any `yaml:"depends_on"`
		Healthcheck map[string]any `yaml:"healthcheck"`
		Environment map[string]any `yaml:"environment"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: composecheck docker-compose.yml")
		os.Exit(2)
	}
	if err := check(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	fmt.Println(os.Args[1] + ": ok")
}

func check(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var c compose
	if err := yaml.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("invalid YAML: %w", err)
	}
	app, ok := c.Services["app"]
	if !ok {
		return fmt.Errorf("service app is missing")
	}
	db, ok := c.Services["mysql"]
	if !ok {
		return fmt.Errorf("service mysql is missing")
	}
	if app.Build == nil {
		return fmt.Errorf("service app must be built from the Dockerfile")
	}
	if db.Healthcheck == nil {
		return fmt.Errorf("service mysql needs a healthcheck")
	}
	dep, ok := app.DependsOn["mysql"].(map[string]any)
	if !ok || dep["condition"] != "service_healthy" {
		return fmt.Errorf("service app must depend on mysql with condition service_healthy")
	}
	for _, name := range []string{"DATABASE_URL", "SECRET_KEY", "PUBLIC_URL"} {
		if _, ok := app.Environment[name]; !ok {
			return fmt.Errorf("service app does not set %s", name)
		}
	}
	if len(c.Volumes) == 0 {
		return fmt.Errorf("no named volume keeps the MySQL data")
	}
	return nil
}
