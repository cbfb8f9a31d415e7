using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace KcpKestrel.Transport.Tcp;

/// <summary>
/// The options the tuned listener hands Kestrel's <see cref="SocketConnectionContextFactory"/>: Kestrel's
/// sockets-transport defaults, and the memory pool Kestrel's own transport uses.
/// </summary>
internal static class SocketConnectionOptions
{
    /// <summary>Kestrel's defaults with <paramref name="memoryPoolFactory"/> (Kestrel's pinned-block pool) when given;
    /// <paramref name="pooled"/> is false when the options kept their plain array pool.</summary>
    internal static SocketConnectionFactoryOptions Create(IMemoryPoolFactory<byte>? memoryPoolFactory, out bool pooled)
    {
        var options = new SocketConnectionFactoryOptions();
        pooled = false;
        if (memoryPoolFactory is null)
        {
            return options;
        }

        // Options built through the public constructor use an ArrayMemoryPool: every read and write rents a plain
        // array and pins it for the system call (the listener measured 1.04-1.12x Kestrel's CPU per keep-alive request
        // on it, benchmarks/results/tcp.md). Kestrel hands its own transport the pinned-block pool from DI through this
        // internal setter; there is no public one.
        try
        {
            SetMemoryPoolFactory(options, memoryPoolFactory);
            pooled = true;
        }
        catch (MissingMethodException)
        {
            // A Kestrel without the setter: connections work as before on the array pool.
        }

        return options;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_MemoryPoolFactory")]
    private static extern void SetMemoryPoolFactory(SocketConnectionFactoryOptions options, IMemoryPoolFactory<byte> value);
}
