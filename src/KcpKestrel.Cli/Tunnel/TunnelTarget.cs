using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace KcpKestrel.Cli.Tunnel;

/// <summary>
/// The server's <c>--target</c>: a TCP <c>HOST:PORT</c> (a name is resolved at each dial, as Go's net.Dial does) or,
/// when it has no port, a unix socket path (as kcptun). Each dial is a Kestrel socket connection, so the copy
/// reads and writes pooled pipe memory.
/// </summary>
internal sealed class TunnelTarget : IDisposable
{
    private readonly EndPoint _endPoint;
    private readonly SocketConnectionContextFactory _connections = new(new SocketConnectionFactoryOptions(), NullLogger.Instance);

    public TunnelTarget(string target)
    {
        Description = target;
        _endPoint = !TunnelAddress.TrySplit(target, out var host, out var port) ? new UnixDomainSocketEndPoint(target)
            : IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port)
            : new DnsEndPoint(host.Length == 0 ? "localhost" : host, port);
    }

    public string Description { get; }

    public async Task<ConnectionContext> ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = _endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : _endPoint is IPEndPoint ip ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) : new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(_endPoint, cancellationToken).ConfigureAwait(false);
            if (socket.ProtocolType == ProtocolType.Tcp)
            {
                socket.NoDelay = true;
            }

            return _connections.Create(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _connections.Dispose();
}
