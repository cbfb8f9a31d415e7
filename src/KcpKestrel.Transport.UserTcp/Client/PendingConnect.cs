using System.Net.Sockets;
using KcpKestrel.Transport.UserTcp.Connections;
using KcpKestrel.Transport.UserTcp.Io;
using KcpKestrel.Transport.UserTcp.Tcp;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.UserTcp.Client;

/// <summary>
/// An active open in progress: the connection's events until it is ESTABLISHED, when the transport's connection takes
/// over; a reset or timeout before that fails the connect. Loop thread, except the task.
/// </summary>
internal sealed class PendingConnect(UserTcpConnectionFactory factory, UserTcpLoopStack stack) : ITcpConnectionEvents, IUserTcpLoopWork
{
    private readonly TaskCompletionSource<UserTcpConnection> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<UserTcpConnection> Task => _completion.Task;

    /// <summary>The connection being opened, once the stack made it.</summary>
    public TcpConnection? Tcp { get; set; }

    public void OnEstablished(TcpConnection connection)
    {
        var established = factory.Wrap(stack, connection);
        connection.Events = established;
        established.Start(stack.Loop.TurnNow);
        if (!_completion.TrySetResult(established))
        {
            // The connect was cancelled meanwhile.
            established.Abort(new ConnectionAbortedException("The connect was cancelled."));
        }
    }

    public void OnReceivable(TcpConnection connection)
    {
    }

    public void OnSendable(TcpConnection connection)
    {
    }

    public void OnClosed(TcpConnection connection, TcpCloseReason reason) =>
        _completion.TrySetException(reason switch
        {
            TcpCloseReason.Refused => new SocketException((int)SocketError.ConnectionRefused),
            TcpCloseReason.TimedOut => new TimeoutException($"{connection.Flow.ToRemoteEndPoint()} did not answer the SYN."),
            _ => new ConnectionResetException($"The connection to {connection.Flow.ToRemoteEndPoint()} ended before it opened: {reason}."),
        });

    /// <summary>Cancellation: posted to the loop, aborts the half-open connection.</summary>
    public void Run(uint now)
    {
        if (!_completion.Task.IsCompleted && Tcp is { } tcp)
        {
            tcp.Abort(now);
            _completion.TrySetCanceled();
        }
    }
}
