package scenariotest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chathub/chathub/internal/scenario"
)

// TestsDir is the directory of a scenario directory's test files.
const TestsDir = "tests"

// Suite is the test files of one scenario directory.
type Suite struct {
	// ScenariosDir is the directory of the scenarios the files test.
	ScenariosDir string
	Files        []string
}

// Discover finds the test files paths name: a file (*.test.yaml), or a
// directory's test files and those of its tests/ subdirectory. A file in a
// tests/ directory tests the scenarios of the directory above it, any
// other the scenarios beside it. Suites come in the order of paths, files
// sorted by name.
func Discover(paths []string) ([]Suite, error) {
	var suites []Suite
	add := func(file string) {
		dir := scenariosDirOf(file)
		for i := range suites {
			if suites[i].ScenariosDir == dir {
				if !slices.Contains(suites[i].Files, file) {
					suites[i].Files = append(suites[i].Files, file)
				}
				return
			}
		}
		suites = append(suites, Suite{ScenariosDir: dir, Files: []string{file}})
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("scenario tests: %w", err)
		}
		if !info.IsDir() {
			if !strings.HasSuffix(p, FileSuffix) {
				return nil, fmt.Errorf("scenario tests: %s is not a test file (*%s)", p, FileSuffix)
			}
			add(filepath.Clean(p))
			continue
		}
		files, err := Files(p)
		if err != nil {
			return nil, err
		}
		sub, err := Files(filepath.Join(p, TestsDir))
		if err != nil {
			return nil, err
		}
		files = append(files, sub...)
		if len(files) == 0 {
			return nil, fmt.Errorf("scenario tests: no test files (*%s) in %s or %s", FileSuffix, p, filepath.Join(p, TestsDir))
		}
		for _, f := range files {
			add(f)
		}
	}
	return suites, nil
}

// Files lists the test files of dir, sorted; none when dir does not exist.
func Files(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("scenario tests: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), FileSuffix) && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// scenariosDirOf is the scenario directory a test file tests.
func scenariosDirOf(file string) string {
	dir := filepath.Dir(filepath.Clean(file))
	if filepath.Base(dir) == TestsDir {
		return filepath.Dir(dir)
	}
	return dir
}

// ParseFiles parses every file of files against scenarios; the error
// lists every problem of every file (a scenario.ErrorList when the files
// could be read).
func ParseFiles(files []string, scenarios Scenarios) ([]*File, error) {
	var out []*File
	var errs scenario.ErrorList
	for _, path := range files {
		f, err := ParseFile(path, scenarios)
		var list scenario.ErrorList
		switch {
		case errors.As(err, &list):
			errs = append(errs, list...)
		case err != nil:
			return nil, err
		default:
			out = append(out, f)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
