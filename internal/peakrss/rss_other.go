//go:build !unix

package peakrss

import "os"

// Of is unknown where rusage does not exist.
func Of(*os.ProcessState) int64 { return 0 }
