using System.Buffers;
using KcpKestrel.Protocols;
using Microsoft.AspNetCore.Connections;

namespace EchoServer;

/// <summary>A custom protocol on Kestrel: every length-prefixed message is written back as it came.</summary>
internal sealed class FramedEchoHandler : ConnectionHandler
{
    public const int MaxMessageSize = 256 * 1024;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(connection.ConnectionClosed);
                var buffer = result.Buffer;
                var wrote = false;
                while (LengthPrefixedProtocol.TryRead(ref buffer, out var message, MaxMessageSize))
                {
                    LengthPrefixedProtocol.Write(output, message);
                    wrote = true;
                }

                // Consumed up to the last whole message; examined everything, so the next read waits for more.
                input.AdvanceTo(buffer.Start, buffer.End);
                if (wrote)
                {
                    await output.FlushAsync(connection.ConnectionClosed);
                }

                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (InvalidDataException)
        {
            connection.Abort(new ConnectionAbortedException("Oversize message."));
        }
        catch (OperationCanceledException)
        {
            // The connection closed under us.
        }
    }
}
