using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KcpKestrel.Transport.Tcp;

/// <summary>Linux socket option numbers .NET has no portable name for, and a raw int setter.</summary>
internal static class TcpSocketOptionNames
{
    internal const int SolSocket = 1;
    internal const int SoReusePort = 15;
    internal const int IpProtoTcp = 6;
    internal const int TcpNoDelay = 1;
    internal const int TcpDeferAccept = 9;
    internal const int TcpFastOpen = 23;
    internal const int TcpFastOpenConnect = 30;

    internal static SocketError TrySetInt(Socket socket, int level, int name, int value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        MemoryMarshal.Write(bytes, in value);
        try
        {
            socket.SetRawSocketOption(level, name, bytes);
            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }

    internal static int GetInt(Socket socket, int level, int name)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        socket.GetRawSocketOption(level, name, bytes);
        return MemoryMarshal.Read<int>(bytes);
    }
}
