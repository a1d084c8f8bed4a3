package main

import (
	"errors"
	"os"

	dashd "github.com/dashd/dashd"
	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
)

// loadConfig is the one path every configuration goes through: serve, SIGHUP
// reload and `dashd validate`. A missing file at the default path falls back to
// the embedded example (Config.Embedded); a missing file the operator named is
// an error.
func loadConfig(path string, explicit bool) (*config.Config, error) {
	opts := config.Options{CheckTypes: collectors.Types(), ChannelTypes: channel.Types()}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && !explicit {
		cfg, err := config.Parse("config.yaml (embedded default)", dashd.DefaultConfig, opts)
		if err == nil {
			cfg.Embedded = true
		}
		return cfg, err
	}
	return config.Load(path, opts)
}
