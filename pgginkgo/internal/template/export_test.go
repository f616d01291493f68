package template

// Named sets the path that error messages show, for the tests' file
// systems, which do not know their own (fstest.MapFS); an os.DirFS is
// named by itself.
func (d *SQLDir) Named(path string) *SQLDir {
	return &SQLDir{fsys: d.fsys, label: path, read: &readOnce{}}
}
