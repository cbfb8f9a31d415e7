using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// A classic BPF program for an SO_REUSEPORT group that returns <c>cpu % workers</c>: the index of the socket that
/// takes a new connection is the CPU that processed its SYN, modulo the group's size, so with worker <c>i</c> pinned
/// to a CPU congruent to <c>i</c> a connection is accepted and served on the core its packets arrive on. The index
/// is the socket's position in the group, which is the order the sockets started listening (the order
/// <see cref="TunedTcpConnectionListener.BindListeningSockets"/> returns them); an index past the group falls back to
/// the kernel's hash.
/// </summary>
internal static unsafe partial class ReuseportCbpf
{
    private const int SoAttachReuseportCbpf = 51;

    // linux/filter.h: BPF_LD|BPF_W|BPF_ABS, BPF_ALU|BPF_MOD|BPF_K, BPF_RET|BPF_A.
    private const ushort LoadWordAbsolute = 0x20;
    private const ushort AluModConstant = 0x94;
    private const ushort ReturnA = 0x16;

    // SKF_AD_OFF + SKF_AD_CPU: the ancillary "current CPU" load.
    private const uint AncillaryCpu = unchecked((uint)(-0x1000 + 36));

    /// <summary>The program: <c>ld #cpu; mod #workers; ret a</c>.</summary>
    internal static SockFilter[] Program(int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        return
        [
            new SockFilter(LoadWordAbsolute, AncillaryCpu),
            new SockFilter(AluModConstant, (uint)workers),
            new SockFilter(ReturnA, 0),
        ];
    }

    /// <summary>Attaches <see cref="Program"/> to the group <paramref name="member"/> belongs to; returns 0 or the errno.</summary>
    internal static int Attach(Socket member, int workers)
    {
        var program = Program(workers);
        fixed (SockFilter* filter = program)
        {
            var fprog = new SockFprog { Length = (ushort)program.Length, Filter = filter };
            var r = setsockopt((int)member.Handle, TcpSocketOptionNames.SolSocket, SoAttachReuseportCbpf, &fprog, (uint)sizeof(SockFprog));
            return r < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsockopt(int fd, int level, int name, void* value, uint length);

    /// <summary>struct sock_filter.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal readonly struct SockFilter(ushort code, uint k)
    {
        public readonly ushort Code = code;
        public readonly byte JumpTrue;
        public readonly byte JumpFalse;
        public readonly uint K = k;
    }

    /// <summary>struct sock_fprog.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SockFprog
    {
        public ushort Length;
        public SockFilter* Filter;
    }
}
