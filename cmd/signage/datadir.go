package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// ensureDataDir makes sure that data_dir exists and can be written before the server says
// it is ready: a directory it cannot write (a root-owned volume under a non-root user is
// the usual one) would otherwise be found out at the first snapshot, announcement or
// refresh token, and what should survive a restart would not. It creates the directory,
// then writes and removes a probe file in it.
func ensureDataDir(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	fail := func(err error) error {
		return fmt.Errorf("config: server.data_dir: %s cannot be written (%v): create it, writable by the user the server runs as, or set server.data_dir to another directory", abs, unwrapPath(err))
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return fail(err)
	}
	f, err := os.CreateTemp(abs, ".write-probe-*")
	if err != nil {
		return fail(err)
	}
	name := f.Name()
	_, werr := f.Write([]byte("probe\n"))
	cerr := f.Close()
	rerr := os.Remove(name)
	for _, err := range []error{werr, cerr, rerr} {
		if err != nil {
			return fail(err)
		}
	}
	return nil
}

// unwrapPath drops the path from an *os.PathError, which the line names already.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
