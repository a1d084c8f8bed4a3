package server

import "flag"

// update is shared by every golden-file test of the package: one flag,
// defined once (a second flag.Bool("update") would panic at start).
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")
