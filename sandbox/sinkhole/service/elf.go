package service

import (
	"debug/elf"
	"encoding/binary"
)

// elfBase is where the one segment of MinimalELF is loaded: the classic
// x86-64 executable base, above the kernel's mmap_min_addr.
const elfBase = 0x400000

// exitCode is the program: exit(0) by the raw syscall.
var exitCode = []byte{
	0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (SYS_exit)
	0x31, 0xff, // xor edi, edi (status 0)
	0x0f, 0x05, // syscall
}

// MinimalELF returns a static x86-64 Linux executable that only exits with
// status 0: what a dropper downloads, so it goes on to chmod and run its
// payload without the sinkhole handing it anything that does harm. It is
// an ELF header, one program header mapping the whole file read+execute,
// and the 9 bytes of code right after them (129 bytes in all).
func MinimalELF() []byte {
	const (
		ehsize    = 64 // sizeof(Elf64_Ehdr)
		phentsize = 56 // sizeof(Elf64_Phdr)
	)
	entry := uint64(elfBase + ehsize + phentsize)
	size := uint64(ehsize + phentsize + len(exitCode))
	le := binary.LittleEndian

	b := make([]byte, 0, size)
	// e_ident: magic, 64-bit, little endian, current version, System V ABI.
	b = append(b, elf.ELFMAG...)
	b = append(b, byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), byte(elf.ELFOSABI_NONE))
	b = append(b, make([]byte, elf.EI_NIDENT-len(b))...) // ABI version and padding
	b = le.AppendUint16(b, uint16(elf.ET_EXEC))          // e_type
	b = le.AppendUint16(b, uint16(elf.EM_X86_64))        // e_machine
	b = le.AppendUint32(b, uint32(elf.EV_CURRENT))       // e_version
	b = le.AppendUint64(b, entry)                        // e_entry
	b = le.AppendUint64(b, ehsize)                       // e_phoff: right after this header
	b = le.AppendUint64(b, 0)                            // e_shoff: no section headers
	b = le.AppendUint32(b, 0)                            // e_flags
	b = le.AppendUint16(b, ehsize)                       // e_ehsize
	b = le.AppendUint16(b, phentsize)                    // e_phentsize
	b = le.AppendUint16(b, 1)                            // e_phnum
	b = le.AppendUint16(b, 64)                           // e_shentsize (no sections follow)
	b = le.AppendUint16(b, 0)                            // e_shnum
	b = le.AppendUint16(b, 0)                            // e_shstrndx

	// The one PT_LOAD: the file from offset 0, headers included, so the
	// entry point's address is the code's file offset plus elfBase.
	b = le.AppendUint32(b, uint32(elf.PT_LOAD))       // p_type
	b = le.AppendUint32(b, uint32(elf.PF_R|elf.PF_X)) // p_flags
	b = le.AppendUint64(b, 0)                         // p_offset
	b = le.AppendUint64(b, elfBase)                   // p_vaddr
	b = le.AppendUint64(b, elfBase)                   // p_paddr
	b = le.AppendUint64(b, size)                      // p_filesz
	b = le.AppendUint64(b, size)                      // p_memsz
	b = le.AppendUint64(b, 0x1000)                    // p_align: the page size

	return append(b, exitCode...)
}
