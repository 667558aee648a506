package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// applySettings fills the flags of cmd that the command line did not set,
// from CERTD_* environment variables, then from a TOML config file: the
// precedence is command line, then environment, then file, then the
// default. Every flag is settable each way: --dns-resolver is
// CERTD_DNS_RESOLVER and dns-resolver in the file. Unknown keys in the
// file, and values that do not parse, are errors naming the key.
func applySettings(cmd *cobra.Command, configFile string) error {
	fileValues := map[string]any{}
	if configFile != "" {
		md, err := toml.DecodeFile(configFile, &fileValues)
		if err != nil {
			return fmt.Errorf("config file %s: %w", configFile, err)
		}
		_ = md
	}
	flags := cmd.Flags()
	var unknown []string
	for key := range fileValues {
		if flags.Lookup(key) == nil || key == "config" {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("config file %s: unknown key(s) %s (keys are the flag names of certd %s)", configFile, strings.Join(unknown, ", "), cmd.Name())
	}
	var firstErr error
	flags.VisitAll(func(f *pflag.Flag) {
		if firstErr != nil || f.Changed || f.Name == "config" || f.Name == "help" {
			return
		}
		env := "CERTD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := setFlag(flags, f, v); err != nil {
				firstErr = fmt.Errorf("%s=%q: %w", env, v, err)
			}
			return
		}
		if v, ok := fileValues[f.Name]; ok {
			var err error
			switch t := v.(type) {
			case []any:
				for _, item := range t {
					if err == nil {
						err = flags.Set(f.Name, fmt.Sprint(item))
					}
				}
			default:
				err = setFlag(flags, f, fmt.Sprint(t))
			}
			if err != nil {
				firstErr = fmt.Errorf("config file %s: key %s: %w", configFile, f.Name, err)
			}
		}
	})
	return firstErr
}

func setFlag(flags *pflag.FlagSet, f *pflag.Flag, v string) error {
	if f.Value.Type() == "stringSlice" {
		for _, item := range strings.Split(v, ",") {
			if err := flags.Set(f.Name, strings.TrimSpace(item)); err != nil {
				return err
			}
		}
		return nil
	}
	return flags.Set(f.Name, v)
}
