package service

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestMinimalELF(t *testing.T) {
	b := MinimalELF()
	if len(b) != 129 {
		t.Errorf("%d bytes, want 129", len(b))
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC || f.OSABI != elf.ELFOSABI_NONE {
		t.Errorf("header %+v", f.FileHeader)
	}
	if len(f.Progs) != 1 || len(f.Sections) != 0 {
		t.Fatalf("%d program headers, %d sections", len(f.Progs), len(f.Sections))
	}
	p := f.Progs[0]
	if p.Type != elf.PT_LOAD || p.Flags != elf.PF_R|elf.PF_X || p.Off != 0 || p.Filesz != uint64(len(b)) || p.Memsz != p.Filesz || p.Vaddr != elfBase {
		t.Errorf("program header %+v", p.ProgHeader)
	}
	// The entry point is the code, inside the loaded segment.
	if off := f.Entry - p.Vaddr; f.Entry < p.Vaddr || off >= p.Filesz || !bytes.Equal(b[off:], exitCode) {
		t.Errorf("entry %#x does not point at the code", f.Entry)
	}
	// Each call returns its own copy.
	b[0] = 0
	if MinimalELF()[0] != 0x7f {
		t.Error("MinimalELF shares its bytes")
	}
}

// TestMinimalELFRuns executes the payload: it is our own exit(0), the
// one program here that is safe to run on the host.
func TestMinimalELFRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(path, MinimalELF(), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path).CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("running it: %v, output %q", err, out)
	}
}
