package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/web"
)

const usersUsage = `Usage: enclave users set-password [flags] EMAIL

Gives the account that uses EMAIL a new password and signs it out
everywhere: the operator's way in for someone who cannot use a
password-reset link. The password is read from standard input, one line,
so that it appears neither in the command line nor in the shell's history:

  enclave users set-password ada@example.org < password.txt
  read -rs PW && printf '%s\n' "$PW" | enclave users set-password ada@example.org

Typed at a terminal, the password is visible as it is typed.

Flags:
`

// runUsers is "enclave users set-password EMAIL", reading the password
// from in.
func runUsers(args []string, in io.Reader, out io.Writer) error {
	cfg := web.ConfigFromEnv(os.Getenv)
	fs := flag.NewFlagSet("enclave users set-password", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data directory (ENCLAVE_DATA_DIR)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "postgres:// URL; empty for embedded SQLite (DATABASE_URL)")
	fs.Usage = func() {
		io.WriteString(fs.Output(), usersUsage)
		fs.PrintDefaults()
	}
	if len(args) == 0 || args[0] != "set-password" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
			fs.Usage()
			return nil
		}
		return errors.New(`unknown users command (want "enclave users set-password EMAIL"; -h explains)`)
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("give exactly one email address")
	}
	email := fs.Arg(0)
	if f, ok := in.(*os.File); ok && isTerminal(f) {
		fmt.Fprintf(os.Stderr, "New password for %s (visible as you type): ", email)
	}
	password, err := readLine(in)
	if err != nil {
		return err
	}
	ctx := context.Background()
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB(db)
	u, err := models.NewSystem(db).SetPassword(ctx, email, password)
	if errors.Is(err, kit.ErrNotFound) {
		return fmt.Errorf("no account uses the email address %s", accounts.NormalizeEmail(email))
	}
	if fe := kit.FieldErrors(err); fe != nil {
		return errors.New(fe["password"])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "The password of %s (%s) is set; the account was signed out everywhere.\n", u.Email, u.Name())
	return nil
}

// readLine reads the first line of in, without its line ending.
func readLine(in io.Reader) (string, error) {
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if errors.Is(err, io.EOF) && line == "" {
		return "", errors.New("no password on standard input (see enclave users -h)")
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}

// isTerminal reports whether f is a terminal rather than a pipe or a file.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
