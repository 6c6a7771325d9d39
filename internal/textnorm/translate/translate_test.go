package translate

import "testing"

func TestName(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"الجهاد الاسلامي المصري", "jihad islamic egyptian", true},
		{"الجماعة الاسلامية المسلحة", "group islamic armed", true},
		{"الحركة الإسلامية لأوزبكستان", "movement islamic of uzbekistan", true},
		{"الدولة الإسلامية في العراق والشام - ليبيا", "state islamic in iraq and levant libya", true},
		{"مكتب حنيفة للصرافة", "office hnifa of exchange", true},
		{"Исламское движение Узбекистана", "islamic movement uzbekistan", true},
		{"Исламское государство", "islamic state", true},
		{"Тигры освобождения Тамил-Илама", "tigers liberation Тамил Илама", true},
		{"ИГИЛ", "isil", true},
		{"طالبان", "طالبان", false},
		{"Иван Петров", "Иван Петров", false},
		{"Hamas Movement", "Hamas Movement", false},
		{"", "", false},
	} {
		got, ok := Name(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("Name(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
