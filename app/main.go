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
	flag.Parse()

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
