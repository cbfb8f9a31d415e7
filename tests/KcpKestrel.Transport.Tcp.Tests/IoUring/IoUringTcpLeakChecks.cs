using KcpKestrel.Transport.Tcp.IoUring;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Tcp.Tests;

/// <summary>
/// The checks after every io_uring engine test: the listeners it made are disposed, none of their workers released its
/// ring with a provided buffer still out, and the process has no more descriptors open than before the test (with a
/// bounded wait, closes can lag). A base class so no test can forget them; tests add their listeners with <see cref="Track"/>.
/// </summary>
public abstract class IoUringTcpLeakChecks : IAsyncLifetime
{
    private readonly List<IConnectionListener> _listeners = [];
    private int _descriptors;

    public Task InitializeAsync()
    {
        _descriptors = FileDescriptors.Count();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var listener in _listeners)
        {
            await listener.DisposeAsync().AsTask().WaitAsync(TestWaits.Bound);
            if (listener is IoUringTcpConnectionListener uring)
            {
                Assert.Equal(0, uring.BuffersOutAtRelease);
            }
        }

        await FileDescriptors.WaitForAtMostAsync(_descriptors);
    }

    /// <summary>Disposed and checked after the test (disposing it earlier is fine: disposal is idempotent).</summary>
    protected T Track<T>(T listener)
        where T : IConnectionListener
    {
        _listeners.Add(listener);
        return listener;
    }
}
