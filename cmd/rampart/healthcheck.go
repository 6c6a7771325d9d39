package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newHealthcheckCmd) }

// DefaultHealthURL is the admin listener's /healthz at its default
// address, which the container image's HEALTHCHECK asks.
const defaultHealthURL = "http://127.0.0.1:9090/healthz"

func newHealthcheckCmd() *cobra.Command {
	var url string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck [--url URL]",
		Short: "Ask a running rampart's /healthz; exit 0 when it answers 2xx",
		Long: "Healthcheck sends GET to the admin listener's /healthz and exits 0 on a 2xx answer, 1 otherwise\n" +
			"(503 when the control-plane store does not answer, or no answer at all). It is the container\n" +
			"image's HEALTHCHECK, for images without curl.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHealthcheck(cmd.Context(), cmd.OutOrStdout(), url, timeout)
		},
	}
	cmd.Flags().StringVar(&url, "url", defaultHealthURL, "health URL to ask")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}

func runHealthcheck(ctx context.Context, out io.Writer, url string, timeout time.Duration) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("healthcheck: %s answered %s: %s", url, resp.Status, body)
	}
	_, err = fmt.Fprintf(out, "%s %s", resp.Status, body)
	return err
}
