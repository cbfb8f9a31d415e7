using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Cli.Serve;

/// <summary>Writes back every byte it reads; when the peer finishes sending, finishes too.</summary>
internal sealed class EchoApp : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        try
        {
            await connection.Transport.Input.CopyToAsync(connection.Transport.Output, connection.ConnectionClosed).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The connection went away (ConnectionAbortedException is an OperationCanceledException).
        }
        catch (IOException)
        {
            // Reset by the peer.
        }
    }
}
