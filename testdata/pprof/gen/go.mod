module emberscope.dev/testdata/pprof/gen

go 1.22
