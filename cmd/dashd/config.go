package main

import (
	"errors"
	"os"

	dashd "github.com/dashd/dashd"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
)

// loadConfig is the one path every configuration goes through: serve, SIGHUP
// reload and `dashd validate`. A missing file at the default path falls back to
// the embedded example; a missing file the operator named is an error.
// embeddedSuffix marks the file name of the embedded default in messages.
const embeddedSuffix = " (embedded default)"

func loadConfig(path string, explicit bool) (*config.Config, error) {
	opts := config.Options{CheckTypes: collectors.Types()}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && !explicit {
		return config.Parse("config.yaml"+embeddedSuffix, dashd.DefaultConfig, opts)
	}
	return config.Load(path, opts)
}
