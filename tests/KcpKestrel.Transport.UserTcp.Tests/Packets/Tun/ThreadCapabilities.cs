using System.Runtime.InteropServices;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets.Tun;

/// <summary>Drops a capability from the calling thread's effective set (capget/capset act per thread).</summary>
internal static unsafe partial class ThreadCapabilities
{
    public const int CapNetAdmin = 12;

    private const uint Version3 = 0x20080522;

    public static void DropEffective(int capability)
    {
        var header = new Header { Version = Version3, Pid = 0 };
        var data = stackalloc Data[2];
        if (capget(&header, data) != 0)
        {
            throw new InvalidOperationException($"capget failed: errno {Marshal.GetLastPInvokeError()}");
        }

        data[capability / 32].Effective &= ~(1u << (capability % 32));
        if (capset(&header, data) != 0)
        {
            throw new InvalidOperationException($"capset failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int capget(Header* header, Data* data);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int capset(Header* header, Data* data);

    [StructLayout(LayoutKind.Sequential)]
    private struct Header
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Data
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }
}
