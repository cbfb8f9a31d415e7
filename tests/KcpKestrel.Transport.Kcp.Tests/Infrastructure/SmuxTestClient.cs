using System.IO.Pipelines;
using KcpKestrel.Protocols.Snappy;
using KcpKestrel.Smux;
using KcpKestrel.Transport.Kcp.Client;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Tests.Infrastructure;

/// <summary>
/// The client side of a multiplexing endpoint as a kcptun client builds it: one KCP connection from a plain
/// <see cref="KcpConnectionFactory"/>, snappy over it when on, and a client <see cref="SmuxSession"/> over that.
/// </summary>
public sealed class SmuxTestClient : IAsyncDisposable
{
    private readonly SnappyDuplexPipe? _snappy;

    private SmuxTestClient(ConnectionContext connection, SnappyDuplexPipe? snappy, SmuxSession session)
    {
        Connection = connection;
        _snappy = snappy;
        Session = session;
    }

    public ConnectionContext Connection { get; }

    public SmuxSession Session { get; }

    public static async Task<SmuxTestClient> ConnectAsync(KcpConnectionFactory factory, KcpEndPoint endPoint, int version, bool compress)
    {
        var connection = await factory.ConnectAsync(endPoint);
        IDuplexPipe transport = connection.Transport;
        SnappyDuplexPipe? snappy = null;
        if (compress)
        {
            snappy = new SnappyDuplexPipe(transport);
            transport = snappy;
        }

        var session = new SmuxSession(transport, isClient: true, new SmuxOptions { Version = version });
        return new SmuxTestClient(connection, snappy, session);
    }

    public ValueTask<SmuxStream> OpenAsync() => Session.OpenStreamAsync();

    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync();
        if (_snappy is not null)
        {
            await _snappy.DisposeAsync();
        }

        await Connection.DisposeAsync();
    }
}
