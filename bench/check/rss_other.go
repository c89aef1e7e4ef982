//go:build !unix

package main

import "os"

// maxRSS is unknown where rusage does not exist.
func maxRSS(*os.ProcessState) int64 { return 0 }
