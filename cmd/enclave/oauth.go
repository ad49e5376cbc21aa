package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"enclave/models/oauth"
	"enclave/web"
)

// runOAuth is "enclave oauth rotate-key": a new key signs access tokens
// from now on; the key it replaces keeps verifying the tokens it signed
// until the longest token lifetime has passed.
func runOAuth(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "rotate-key" {
		return errors.New(`unknown oauth command (want "enclave oauth rotate-key")`)
	}
	cfg := web.ConfigFromEnv(os.Getenv)
	fs := flag.NewFlagSet("enclave oauth rotate-key", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data directory (ENCLAVE_DATA_DIR)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if os.Getenv("ENCLAVE_OAUTH_KEY") != "" {
		return errors.New("the signing key comes from ENCLAVE_OAUTH_KEY: set a new one there " +
			"and move the old one to ENCLAVE_OAUTH_PREVIOUS_KEY for a day")
	}
	if err := cfg.PrepareDataDir(); err != nil {
		return err
	}
	kid, err := oauth.Rotate(cfg.DataDir, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "New signing key %s in %s. Running servers sign with it within 10 seconds; "+
		"tokens signed with the previous key keep working for %s.\n", kid, cfg.DataDir, oauth.KeepRetired)
	return nil
}
