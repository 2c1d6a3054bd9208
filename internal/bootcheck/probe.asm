; The accelerator probe: a boot sector that SeaBIOS loads and runs in real
; mode, the mode where a nested KVM without unrestricted guests emulates
; every instruction. It prints a start line to COM1, spins 20 million
; times, writes 16 KiB to COM1 (each byte is a VM exit under KVM), prints
; the end line and leaves QEMU through isa-debug-exit.
bits 16
org 0x7c00
start:
	cli
	xor ax, ax
	mov ds, ax
	mov si, begin
	call puts
	mov ecx, 20000000
spin:
	dec ecx
	jnz spin
	mov bx, 256
lines:
	mov si, line
	call puts
	dec bx
	jnz lines
	mov si, finish
	call puts
	mov dx, 0xf4
	xor al, al
	out dx, al
halt:
	hlt
	jmp halt
puts:
	mov dx, 0x3f8
.next:
	lodsb
	test al, al
	jz .done
	out dx, al
	jmp .next
.done:
	ret
begin:  db "fbs-probe: start", 13, 10, 0
line:   db "fbs-probe: ", "................................................", 13, 10, 0
finish: db "fbs-probe: done", 13, 10, 0
	times 510-($-$$) db 0
	dw 0xaa55
