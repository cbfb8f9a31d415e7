using KcpKestrel.Transport.Kcp;
using System.Net;
using KcpKestrel.Transport.Kcp.Client;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Cli.Tunnel;

/// <summary>kcptun's client per TCP connection: opens a smux stream on the pooled sessions to the server and copies both ways.</summary>
internal sealed class TunnelClientHandler(KcpConnectionFactory streams, KcpEndPoint remote, TunnelLog log) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var inbound = connection.RemoteEndPoint?.ToString() ?? connection.ConnectionId;
        ConnectionContext stream;
        try
        {
            stream = await streams.ConnectAsync(remote, connection.ConnectionClosed).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Unreachable server, refused stream, shutdown: the TCP connection is closed and the reason logged.
            log.StreamFailed($"open stream to {remote}: {e.Message}");
            return;
        }

        await using (stream.ConfigureAwait(false))
        {
            var outbound = $"{stream.RemoteEndPoint}({stream.ConnectionId})";
            log.StreamOpened(inbound, outbound);
            var bytes = await TunnelForwarder.RunAsync(connection.Transport, stream.Transport).ConfigureAwait(false);
            log.StreamClosed(inbound, outbound, bytes);
        }
    }
}
