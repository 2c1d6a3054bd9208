package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spf13/cobra"
)

// TestSecretFilesHidden: every file a command is given that holds a
// secret, by flag or as its configuration, is hidden from its builds;
// the CA's certificate is not.
func TestSecretFilesHidden(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "fbs.toml")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FBS_CONFIG", conf)
	file := func(name string) string { return filepath.Join(dir, name) }
	tests := map[string]struct {
		cmd  *cobra.Command
		args []string
	}{
		"serve": {serveCmd(), []string{"--db-file", file("db"), "--smtp-password-file", file("smtp"), "--oidc-client-secret-file", file("oidc"),
			"--s3-access-key-file", file("s3a"), "--s3-secret-key-file", file("s3s"), "--webhook-secret-file", file("hook"), "--tls-key", file("tls.key")}},
		"worker": {workerCmd(), []string{"--token-file", file("token"), "--s3-access-key-file", file("s3a"), "--s3-secret-key-file", file("s3s"),
			"--ca-file", file("ca.pem")}},
		"build": {buildCmd(), []string{"--smtp-password-file", file("smtp"), "--webhook-secret-file", file("hook"),
			"--s3-access-key-file", file("s3a"), "--s3-secret-key-file", file("s3s")}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if err := tc.cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			var f builderFlags
			f.secrets = secretFiles(tc.cmd.Flags())
			hidden := f.options().Hidden
			for i := 1; i < len(tc.args); i += 2 {
				if p := tc.args[i]; slices.Contains(hidden, p) == (tc.args[i-1] == "--ca-file") {
					t.Errorf("%s %s: hidden %v", tc.args[i-1], p, slices.Contains(hidden, p))
				}
			}
			if !slices.Contains(hidden, conf) {
				t.Errorf("the configuration file %s is not hidden: %q", conf, hidden)
			}
		})
	}
}
