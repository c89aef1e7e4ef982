//go:build !unix

package ci

import "errors"

func mkfifo(string) error { return errors.New("no named pipes here") }
