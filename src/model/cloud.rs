//! The Azure clouds and their endpoints.

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Cloud {
    #[default]
    #[value(name = "AzureCloud", alias = "azurecloud")]
    AzureCloud,
    #[value(name = "AzureChinaCloud", alias = "azurechinacloud")]
    AzureChinaCloud,
    #[value(name = "AzureUSGovernment", alias = "azureusgovernment")]
    AzureUsGovernment,
}

impl Cloud {
    pub fn name(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "AzureCloud",
            Cloud::AzureChinaCloud => "AzureChinaCloud",
            Cloud::AzureUsGovernment => "AzureUSGovernment",
        }
    }

    pub fn from_name(name: &str) -> Option<Cloud> {
        match name.to_ascii_lowercase().as_str() {
            "azurecloud" => Some(Cloud::AzureCloud),
            "azurechinacloud" => Some(Cloud::AzureChinaCloud),
            "azureusgovernment" => Some(Cloud::AzureUsGovernment),
            _ => None,
        }
    }

    /// The login server suffix, with its leading dot.
    pub fn acr_suffix(self) -> &'static str {
        match self {
            Cloud::AzureCloud => ".azurecr.io",
            Cloud::AzureChinaCloud => ".azurecr.cn",
            Cloud::AzureUsGovernment => ".azurecr.us",
        }
    }

    /// The login server of registry `name` in this cloud: the name followed by the suffix.
    pub fn login_server(self, name: &str) -> String {
        format!("{name}{}", self.acr_suffix())
    }

    pub fn authority(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "https://login.microsoftonline.com",
            Cloud::AzureChinaCloud => "https://login.chinacloudapi.cn",
            Cloud::AzureUsGovernment => "https://login.microsoftonline.us",
        }
    }

    pub fn arm(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "https://management.azure.com",
            Cloud::AzureChinaCloud => "https://management.chinacloudapi.cn",
            Cloud::AzureUsGovernment => "https://management.usgovcloudapi.net",
        }
    }

    pub fn graph(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "https://graph.microsoft.com",
            Cloud::AzureChinaCloud => "https://microsoftgraph.chinacloudapi.cn",
            Cloud::AzureUsGovernment => "https://graph.microsoft.us",
        }
    }
}
