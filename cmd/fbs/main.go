// Command fbs builds Fedora boot, DVD and live images on demand.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"fbs/internal/cli"
	"fbs/internal/runner"
)

func main() {
	runner.Init()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
