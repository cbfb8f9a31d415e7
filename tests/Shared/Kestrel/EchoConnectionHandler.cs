using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Tests.Shared;

/// <summary>Writes back every byte it reads until the peer completes or the connection closes.</summary>
public sealed class EchoConnectionHandler : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        try
        {
            await connection.Transport.Input.CopyToAsync(connection.Transport.Output, connection.ConnectionClosed);
        }
        catch (OperationCanceledException)
        {
            // ConnectionClosed fired (ConnectionAbortedException is one of these too).
        }
    }
}
