using System.Buffers.Binary;
using System.Net.Sockets;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Io;

/// <summary>
/// A classic BPF program on the socket (Linux SO_ATTACH_FILTER) that drops in the kernel what this
/// node would only read and throw away: its own datagrams, which multicast loopback hands back to it
/// (a publisher's whole data stream), and, on a transport without a receiver, everything but NAKs.
/// At full rate that is one datagram in, per datagram out, that the receive thread no longer wakes
/// for. The program reads the header's magic, kind and source node (docs/multicast-wire.md); a
/// datagram whose first byte is not the magic (another format) is let through. The receive path
/// keeps its own checks: the filter only saves work, and where it is missing nothing changes.
/// </summary>
internal static class KernelFilter
{
    private const int SolSocket = 1;
    private const int SoAttachFilter = 26;

    // Offsets are from the UDP header, which is where a UDP socket's filter starts reading.
    private const int UdpHeader = 8;

    private const ushort LoadByte = 0x30;   // BPF_LD | BPF_B | BPF_ABS
    private const ushort LoadHalf = 0x28;   // BPF_LD | BPF_H | BPF_ABS (network byte order)
    private const ushort JumpIfEqual = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    private const ushort Return = 0x06;     // BPF_RET | BPF_K

    /// <summary>Attaches the filter; false when the platform has none (the datagrams then reach the receive thread, which drops them).</summary>
    public static bool TryAttach(Socket socket, ushort node, bool naksOnly)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        Span<ulong> program = stackalloc ulong[8];
        var length = Write(program, node, naksOnly);
        try
        {
            SetFilter(socket, program[..length]);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Writes the program as 8-byte <c>struct sock_filter</c>s; returns how many.</summary>
    internal static int Write(Span<ulong> program, ushort node, bool naksOnly)
    {
        var accept = naksOnly ? 6 : 4;
        var drop = accept + 1;

        // The node is little-endian on the wire, a half-word load reads it big-endian.
        var nodeAsLoaded = BinaryPrimitives.ReverseEndianness(node);
        var i = 0;
        program[i++] = Instruction(LoadByte, 0, 0, UdpHeader);
        program[i++] = Instruction(JumpIfEqual, 0, (byte)(accept - i), PacketHeader.Magic);
        program[i++] = Instruction(LoadHalf, 0, 0, UdpHeader + 4);
        program[i++] = Instruction(JumpIfEqual, (byte)(drop - i), (byte)(naksOnly ? 0 : accept - i), nodeAsLoaded);
        if (naksOnly)
        {
            program[i++] = Instruction(LoadByte, 0, 0, UdpHeader + 2);
            program[i++] = Instruction(JumpIfEqual, (byte)(accept - i), (byte)(drop - i), (uint)PacketKind.Nak);
        }

        program[i++] = Instruction(Return, 0, 0, uint.MaxValue);
        program[i++] = Instruction(Return, 0, 0, 0);
        return i;
    }

    // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }, little-endian (x64, arm64).
    private static ulong Instruction(ushort code, byte jumpTrue, byte jumpFalse, uint k) =>
        code | ((ulong)jumpTrue << 16) | ((ulong)jumpFalse << 24) | ((ulong)k << 32);

    private static unsafe void SetFilter(Socket socket, ReadOnlySpan<ulong> program)
    {
        fixed (ulong* instructions = program)
        {
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: the kernel copies the
            // program during the call, so the stack is a fine home for it.
            Span<byte> fprog = stackalloc byte[16];
            fprog.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(fprog, (ushort)program.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(fprog[8..], (ulong)instructions);
            socket.SetRawSocketOption(SolSocket, SoAttachFilter, fprog);
        }
    }
}
