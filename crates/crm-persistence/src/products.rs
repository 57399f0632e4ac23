//! `ProductStore` on the database.

use chrono::{DateTime, NaiveDateTime, Utc};
use crm_domain::page::{Page, PageRequest};
use crm_domain::ports::{ProductFilter, ProductStore};
use crm_domain::products::{sku_key, Product, ProductFields};
use crm_domain::DomainError;
use diesel::prelude::*;

use crate::convert::{new_id, stored, utc};
use crate::customers::like_pattern;
use crate::errors::{check_version, on_unique_violation, TxError};
use crate::schema::products;
use crate::{Database, DbConnection};

#[derive(Queryable, Selectable)]
#[diesel(table_name = products)]
struct ProductRow {
    id: String,
    sku: String,
    name: String,
    description: Option<String>,
    unit_price: i64,
    currency: String,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl From<ProductRow> for Product {
    fn from(row: ProductRow) -> Self {
        Product {
            id: row.id,
            fields: ProductFields {
                sku: row.sku,
                name: row.name,
                description: row.description,
                unit_price: row.unit_price,
                currency: row.currency,
                active: row.active,
            },
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            version: row.version,
        }
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = products, treat_none_as_null = true)]
struct ProductWrite<'a> {
    sku: &'a str,
    sku_key: String,
    name: &'a str,
    description: Option<&'a str>,
    unit_price: i64,
    currency: &'a str,
    active: bool,
    search_key: String,
}

impl<'a> ProductWrite<'a> {
    fn of(f: &'a ProductFields) -> Self {
        Self {
            sku: &f.sku,
            sku_key: sku_key(&f.sku),
            name: &f.name,
            description: f.description.as_deref(),
            unit_price: f.unit_price,
            currency: &f.currency,
            active: f.active,
            search_key: format!("{} {}", sku_key(&f.sku), f.name.to_lowercase()),
        }
    }
}

const PRODUCT: DomainError = DomainError::NotFound { entity: "product" };

fn taken(e: diesel::result::Error) -> TxError {
    on_unique_violation(e, "sku_exists", "another product has this SKU")
}

fn load(conn: &mut DbConnection, id: &str) -> Result<Product, TxError> {
    Ok(products::table
        .find(id)
        .select(ProductRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(PRODUCT)?
        .into())
}

impl ProductStore for Database {
    fn products(
        &self,
        filter: &ProductFilter,
        page: &PageRequest,
    ) -> Result<Page<Product>, DomainError> {
        self.read(|conn| {
            let mut query = products::table
                .select(ProductRow::as_select())
                .order(products::sku_key.asc())
                .limit(i64::from(page.limit) + 1)
                .into_boxed();
            if let Some(active) = filter.active {
                query = query.filter(products::active.eq(active));
            }
            if let Some(currency) = &filter.currency {
                query = query.filter(products::currency.eq(currency.clone()));
            }
            if let Some(text) = &filter.text {
                query = query.filter(
                    products::search_key
                        .like(like_pattern(&text.to_lowercase()))
                        .escape('\\'),
                );
            }
            if let Some(after) = &page.after {
                query = query.filter(products::sku_key.gt(after.clone()));
            }
            let rows: Vec<ProductRow> = query.load(conn)?;
            let items = rows.into_iter().map(Product::from).collect();
            Ok(Page::from_rows(items, page.limit, |p: &Product| {
                sku_key(&p.fields.sku)
            }))
        })
    }

    fn product(&self, id: &str) -> Result<Product, DomainError> {
        self.read(|conn| load(conn, id))
    }

    fn create_product(
        &self,
        fields: ProductFields,
        now: DateTime<Utc>,
    ) -> Result<Product, DomainError> {
        let id = new_id();
        let at = stored(now);
        self.write(|conn| {
            diesel::insert_into(products::table)
                .values((
                    ProductWrite::of(&fields),
                    products::id.eq(&id),
                    products::created_at.eq(at),
                    products::updated_at.eq(at),
                    products::version.eq(1_i64),
                ))
                .execute(conn)
                .map_err(taken)?;
            load(conn, &id)
        })
    }

    fn update_product(
        &self,
        id: &str,
        fields: ProductFields,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Product, DomainError> {
        self.write(|conn| {
            let current = load(conn, id)?;
            check_version(expected_version, current.version)?;
            if current.fields == fields {
                return Ok(current);
            }
            diesel::update(products::table.find(id))
                .set((
                    ProductWrite::of(&fields),
                    products::updated_at.eq(stored(now)),
                    products::version.eq(current.version + 1),
                ))
                .execute(conn)
                .map_err(taken)?;
            load(conn, id)
        })
    }
}
