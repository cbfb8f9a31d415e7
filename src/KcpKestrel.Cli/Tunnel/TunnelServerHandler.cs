using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Cli.Tunnel;

/// <summary>kcptun's server per stream: dials the target over TCP and copies both ways until either side ends.</summary>
internal sealed class TunnelServerHandler(TunnelTarget target, TunnelLog log) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var inbound = $"{connection.RemoteEndPoint}({connection.ConnectionId})";
        TunnelTarget.Connection outbound;
        try
        {
            outbound = await target.ConnectAsync(connection.ConnectionClosed).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // As kcptun: the stream is closed (returning ends it) and the error logged.
            log.StreamFailed($"dial {target.Description}: {e.Message}");
            return;
        }

        await using (outbound.ConfigureAwait(false))
        {
            var outDescription = outbound.RemoteEndPoint?.ToString() ?? target.Description;
            log.StreamOpened(inbound, outDescription);
            var bytes = await TunnelForwarder.RunAsync(connection.Transport, outbound).ConfigureAwait(false);
            log.StreamClosed(inbound, outDescription, bytes);
        }
    }
}
