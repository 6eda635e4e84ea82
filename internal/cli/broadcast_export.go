package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/chathub/chathub/internal/admin"
)

func parseExport(fs *flag.FlagSet, args []string) (broadcastRun, error) {
	out := fs.String("o", "", "write the CSV to this file (default: stdout)")
	id, err := parseID(fs, args)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, bc *broadcastCall) error {
		if *out == "" {
			w := admin.NewDeliveryCSV(bc.env.Stdout)
			if err := bc.svc.Deliveries(ctx, id, w.Write); err != nil {
				return err
			}
			return w.Flush()
		}
		n, err := exportToFile(ctx, bc.svc, id, *out)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(bc.env.Stderr, "wrote %d deliveries of campaign %d to %s\n", n, id, *out)
		return err
	}, nil
}

// exportToFile writes the CSV next to path and renames it into place, so a
// failed export never leaves a file that looks whole.
func exportToFile(ctx context.Context, svc broadcaster, id int64, path string) (int, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return 0, fmt.Errorf("export to %s: is a directory; name a file, e.g. %s", path, filepath.Join(path, "deliveries.csv"))
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, fmt.Errorf("export to %s: directory %s does not exist", path, dir)
	case errors.Is(err, fs.ErrPermission):
		return 0, fmt.Errorf("export to %s: directory %s is not writable", path, dir)
	case err != nil:
		return 0, fmt.Errorf("export to %s: %w", path, withoutPath(err))
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	w := admin.NewDeliveryCSV(anonymousFile{tmp})
	err = svc.Deliveries(ctx, id, w.Write)
	if err == nil {
		err = w.Flush()
	}
	err = errors.Join(err, withoutPath(tmp.Close()))
	if err == nil {
		err = withoutPath(os.Rename(tmp.Name(), path))
	}
	if err != nil {
		return 0, fmt.Errorf("export to %s: %w", path, err)
	}
	return w.Rows(), nil
}

// anonymousFile writes to a temporary file; its errors do not name it.
type anonymousFile struct{ f *os.File }

func (a anonymousFile) Write(p []byte) (int, error) {
	n, err := a.f.Write(p)
	return n, withoutPath(err)
}

// withoutPath drops the file name and operation of file system errors: the
// caller names the file the user asked for, never the temporary file
// written beside it.
func withoutPath(err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
