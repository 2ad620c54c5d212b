module emberscope.test/scrape/target

go 1.22
