package feeds_test

func crashChildMain() bool { return false }
