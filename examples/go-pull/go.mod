module github.com/emberscope/emberscope/examples/go-pull

go 1.25.0
