package firstrun

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// CredentialsFile is the file in the data directory that keeps what a
// first start generated, mode 0600.
const CredentialsFile = "credentials"

// Credentials are the secrets a first start generated, as kept in the
// credentials file: shell variable assignments, so that
//
//	set -a; . ./data/credentials; set +a
//
// gives the official SDKs and the CLI their environment. A secret taken
// from the environment at the first start is not written (only its ID).
type Credentials struct {
	AccountUID      string
	AccessKeyID     string
	AccessKeySecret string
	AdminToken      string
	ConsoleUser     string
	ConsolePassword string
}

// credentialVars are the file's variables, in the order written.
var credentialVars = []struct {
	name  string
	field func(*Credentials) *string
}{
	{"DIALTONE_ACCOUNT", func(c *Credentials) *string { return &c.AccountUID }},
	{"ALIBABA_CLOUD_ACCESS_KEY_ID", func(c *Credentials) *string { return &c.AccessKeyID }},
	{"ALIBABA_CLOUD_ACCESS_KEY_SECRET", func(c *Credentials) *string { return &c.AccessKeySecret }},
	{"DIALTONE_ADMIN_TOKEN", func(c *Credentials) *string { return &c.AdminToken }},
	{"DIALTONE_CONSOLE_USER", func(c *Credentials) *string { return &c.ConsoleUser }},
	{"DIALTONE_CONSOLE_PASSWORD", func(c *Credentials) *string { return &c.ConsolePassword }},
}

// WriteCredentials writes c to path, mode 0600, replacing the file.
func WriteCredentials(path string, c Credentials, now time.Time) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Dialtone: what the first start of this data directory generated, %s. Keep this file private.\n", now.UTC().Format(time.RFC3339))
	b.WriteString("# It reads as shell variables: set -a; . ./data/credentials; set +a\n")
	for _, v := range credentialVars {
		if val := *v.field(&c); val != "" {
			fmt.Fprintf(&b, "%s=%s\n", v.name, val)
		}
	}
	// Written to a new file first, so a crash leaves the old one or the
	// new one, and the mode holds whatever the umask.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	return nil
}

// ReadCredentials reads a credentials file; unknown lines are skipped.
func ReadCredentials(path string) (Credentials, error) {
	var c Credentials
	data, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, val, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		for _, v := range credentialVars {
			if v.name == name {
				*v.field(&c) = val
			}
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("read credentials %s: %w", path, err)
	}
	if c == (Credentials{}) {
		return c, errors.New("read credentials " + path + ": no credentials in it")
	}
	return c, nil
}
