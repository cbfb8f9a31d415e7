using System.Buffers;
using KcpKestrel.Protocols;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Http.Tests.Infrastructure;

/// <summary>A custom protocol: each length-prefixed message comes back reversed, with its prefix.</summary>
public sealed class LengthPrefixedEchoHandler : ConnectionHandler
{
    public const int MaxMessageSize = 64 * 1024;

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
                    var reversed = message.ToArray();
                    Array.Reverse(reversed);
                    LengthPrefixedProtocol.Write(output, reversed);
                    wrote = true;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (wrote)
                {
                    await output.FlushAsync(connection.ConnectionClosed);
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (InvalidDataException)
        {
            // An oversize prefix: the peer broke the protocol, so the connection ends.
            connection.Abort(new ConnectionAbortedException("Message too large."));
        }
        catch (OperationCanceledException)
        {
            // The connection closed under us.
        }
    }
}
