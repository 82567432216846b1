// Command app runs the WhatsApp connector for Bitrix24 Open Lines.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	printConfig := flag.Bool("print-config", false, "print the configuration with secrets redacted and exit")
	demo := flag.Bool("demo", false, "run the sandbox: the app on SQLite with simulated WhatsApp and a fake Bitrix24 portal, all on loopback addresses")
	flag.Parse()
	if *demo {
		os.Exit(demoMain(*printConfig))
	}

	cfg, err := LoadConfig(os.LookupEnv)
	if *printConfig {
		cfg.Print(os.Stdout)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "invalid configuration:\n%v\n", err)
		os.Exit(2)
	}
	if *printConfig {
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "app: %v\n", err)
		os.Exit(1)
	}
}
