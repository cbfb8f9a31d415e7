using System.Net;

namespace KcpKestrel.Transport.Tcp;

/// <summary>
/// An IP endpoint served by the tuned TCP listener even when Kestrel's default sockets transport is registered
/// (see <see cref="TunedTcpOptions.BindAllIPEndPoints"/>). Pass it to <c>KestrelServerOptions.Listen</c> or use
/// <c>ListenTunedTcp</c>.
/// </summary>
public sealed class TunedTcpEndPoint : IPEndPoint
{
    /// <summary>Creates an endpoint for <paramref name="address"/> and <paramref name="port"/> (0: any free port).</summary>
    /// <param name="address">The address to bind.</param>
    /// <param name="port">The port to bind; 0 lets the kernel choose.</param>
    public TunedTcpEndPoint(IPAddress address, int port)
        : base(address, port)
    {
    }

    /// <summary>Options for this endpoint only; null uses the options given to <c>UseTunedTcp</c>.</summary>
    public TunedTcpOptions? Options { get; set; }
}
